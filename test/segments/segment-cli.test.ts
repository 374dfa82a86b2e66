import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, it } from 'node:test';
import { runCdp } from '../e2e/server-process.ts';
import { describeEachStore } from '../support/stores.ts';
import { BASE } from './conformance.cases.ts';
import { openRawDatabase, seedProfiles } from './profile-fixtures.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'cdp-segment-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describeEachStore('cdp segment', (fixture) => {
  it(
    'creates, lists and previews segments from files; errors point at line and column',
    { timeout: 180_000 },
    async () => {
      const handle = await fixture.fresh();
      await handle.store.workspaces.create({
        id: 'ws_seg_cli',
        slug: 'seg-cli',
        name: 'CLI',
        createdMs: Date.now(),
      });
      const raw = openRawDatabase(handle);
      await seedProfiles(raw, 'ws_seg_cli', BASE);
      await raw.destroy();
      await handle.store.close();

      const good = path.join(dir, `${fixture.kind}-pro.seg`);
      writeFileSync(good, 'traits.plan = "pro"\n  and traits.lifetime_value > 600\n');
      const created = await runCdp(
        ['segment', 'create', 'seg-cli', 'big-pro', '--name', 'Big pro', '--file', good],
        handle.env,
      );
      assert.equal(created.code, 0, created.stderr);
      assert.match(created.stdout, /created segment big-pro \(seg_\w+\): 2 members, ready/);

      const listed = await runCdp(['segment', 'list', 'seg-cli', '--json'], handle.env);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual(
        (JSON.parse(listed.stdout) as { slug: string; size: number }[]).map((s) => [s.slug, s.size]),
        [['big-pro', 2]],
      );

      const preview = await runCdp(
        [
          'segment',
          'preview',
          'seg-cli',
          '--definition',
          'in segment "big-pro" or traits.plan = "free"',
          '--sample',
          '2',
        ],
        handle.env,
      );
      assert.equal(preview.code, 0, preview.stderr);
      assert.equal(preview.stdout, '3 profiles match\n  p01\n  p02\n');

      const bad = path.join(dir, `${fixture.kind}-bad.seg`);
      writeFileSync(bad, 'traits.plan = "pro" and\n  traits.ltv >=\n');
      const failed = await runCdp(['segment', 'preview', 'seg-cli', '--file', bad], handle.env);
      assert.equal(failed.code, 1);
      assert.equal(
        failed.stderr,
        [
          `cdp: ${bad}:3:1: expected a value (string, number, date, true, false or null) but found end of input (segment.parse_error)`,
          '  3 | ',
          '    | ^',
          '',
        ].join('\n'),
      );
      const unknown = await runCdp(
        ['segment', 'create', 'seg-cli', 'x', '--name', 'X', '--definition', 'in segment "nope"'],
        handle.env,
      );
      assert.equal(unknown.code, 1);
      assert.equal(
        unknown.stderr,
        'cdp: <definition>:1:1: there is no segment "nope" (segment.unknown_segment)\n  1 | in segment "nope"\n    | ^\n',
      );
    },
  );
});
