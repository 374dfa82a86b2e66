import assert from 'node:assert/strict';
import { admin, eventually } from '../support/http-helpers.ts';
import type { TestApp } from '../support/test-app.ts';

export const url = (t: TestApp, rest: string): string => `/api/v1/workspaces/${t.workspace.slug}${rest}`;

export { drained, eventually } from '../support/http-helpers.ts';

export interface ProfileView {
  id: string;
  identities: { type: string; value: string }[];
  traits: Record<string, unknown>;
  consent: Record<string, boolean>;
  mergedIds: string[];
  eventCount: number;
}

export async function lookup(t: TestApp, type: string, value: string): Promise<ProfileView | undefined> {
  const res = await admin(
    t,
    'GET',
    url(t, `/profiles/lookup?type=${type}&value=${encodeURIComponent(value)}`),
  );
  if (res.statusCode === 404) return undefined;
  assert.equal(res.statusCode, 200, res.body);
  return res.json<ProfileView>();
}

export interface RequestView {
  id: string;
  type: string;
  status: 'pending' | 'running' | 'completed' | 'failed';
  identifier: { type: string; value?: string };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  result: Record<string, unknown> | null;
  error: { code: string; message: string } | null;
  exportUrl?: string;
}

/** Makes a privacy request and waits until it finished. */
export async function privacyRequest(
  t: TestApp,
  type: string,
  identifier: { type: string; value: string },
): Promise<RequestView> {
  const res = await admin(t, 'POST', url(t, '/privacy-requests'), { type, identifier });
  assert.equal(res.statusCode, 202, res.body);
  const created = res.json<RequestView>();
  return finished(t, created.id);
}

export async function finished(t: TestApp, id: string): Promise<RequestView> {
  return eventually(async () => {
    const got = await admin(t, 'GET', url(t, `/privacy-requests/${id}`));
    assert.equal(got.statusCode, 200, got.body);
    const view = got.json<RequestView>();
    return view.status === 'completed' || view.status === 'failed' ? view : undefined;
  }, `privacy request ${id}`);
}
