/**
 * The settings a read path uses (a lookup's normalization, a view's PII masking) come from a
 * short-lived copy: a change made through the same service shows at once, one made by another
 * process within the copy's freshness window, and processing reads always see the stored value.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { ProfileSettingsService } from '../../src/profiles/profile-settings.service.ts';
import { describeEachStore } from '../support/stores.ts';

const WS = 'ws_settings_reads';

describeEachStore('profile settings for reads', (fixture) => {
  it('a change through this service shows at once; another process’s after the fresh window', async () => {
    const { store } = await fixture.fresh();
    let nowMs = 1_000_000;
    const here = new ProfileSettingsService(store.workspaceSettings, () => nowMs);
    const elsewhere = new ProfileSettingsService(store.workspaceSettings, () => nowMs);

    assert.deepEqual((await here.privacyForReads(WS)).piiTraits, []);
    assert.deepEqual((await here.identityForReads(WS)).customTypes, []);
    await here.putPrivacy(WS, { piiTraits: ['salary'] }, nowMs);
    await here.putIdentity(WS, { customTypes: ['crm_id'] }, nowMs);
    assert.deepEqual((await here.privacyForReads(WS)).piiTraits, ['salary']);
    assert.deepEqual((await here.identityForReads(WS)).customTypes, ['crm_id']);

    // Another process changes them: this one's copy is trusted for 2 s, processing reads are not.
    await elsewhere.putPrivacy(WS, { piiTraits: ['salary', 'iban'] }, nowMs);
    assert.deepEqual((await here.privacyForReads(WS)).piiTraits, ['salary']);
    assert.deepEqual((await here.privacy(WS)).piiTraits, ['salary', 'iban']);
    nowMs += 2_001;
    // The stale copy answers while the new one loads behind it; the next read has it.
    await here.privacyForReads(WS);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual((await here.privacyForReads(WS)).piiTraits, ['salary', 'iban']);
    // A copy unused for a minute is not trusted at all.
    await elsewhere.putIdentity(WS, { customTypes: ['crm_id', 'shop_id'] }, nowMs);
    nowMs += 60_001;
    assert.deepEqual((await here.identityForReads(WS)).customTypes, ['crm_id', 'shop_id']);
    await store.close();
  });
});
