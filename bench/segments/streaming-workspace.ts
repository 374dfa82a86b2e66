import type { JsonClient } from '../support/http-json.ts';

/**
 * Typical real-time audiences, created before the traffic starts (so their backfill is empty and
 * everything after is the streaming path). The probes rely on the first four.
 */
export const STREAMING_SEGMENTS = [
  { slug: 'plan-premium', definition: 'traits.plan = "premium"' },
  { slug: 'repeat-buyers', definition: 'did "Order Completed" at least 2 times in last 30 days' },
  {
    slug: 'browse-no-buy',
    definition: 'did "Product Viewed" in last 7 days and not did "Order Completed" in last 7 days',
  },
  { slug: 'active-last-minute', definition: 'did "Product Viewed" in last 1 minute' },
  { slug: 'enterprise-accounts', definition: 'group.plan = "enterprise"' },
  { slug: 'premium-repeat-buyers', definition: 'in segment "plan-premium" and in segment "repeat-buyers"' },
] as const;

export interface BenchWorkspace {
  readonly slug: string;
  readonly writeKey: string;
  /** Workspace admin: creates the segments. */
  readonly adminToken: string;
  /** Polls memberships: an analyst reads personal data masked, so no audit write per poll. */
  readonly readerToken: string;
}

/** A workspace, a source, an admin and an analyst token, and the segments, all through the admin API. */
export async function createBenchWorkspace(client: JsonClient, ownerToken: string): Promise<BenchWorkspace> {
  const { slug } = await client.expect<{ slug: string }>(201, 'POST', '/api/v1/workspaces', ownerToken, {
    name: 'Streaming bench',
  });
  const ws = `/api/v1/workspaces/${slug}`;
  const { writeKey } = await client.expect<{ writeKey: string }>(201, 'POST', `${ws}/sources`, ownerToken, {
    name: 'bench traffic',
    type: 'http',
  });
  const token = async (role: string): Promise<string> =>
    (
      await client.expect<{ token: string }>(201, 'POST', `${ws}/tokens`, ownerToken, {
        name: `streaming bench ${role}`,
        role,
      })
    ).token;
  const adminToken = await token('admin');
  const readerToken = await token('analyst');
  for (const { slug: segment, definition } of STREAMING_SEGMENTS)
    await client.expect(201, 'POST', `${ws}/segments`, adminToken, {
      name: segment,
      slug: segment,
      definition,
    });
  for (const { slug: segment } of STREAMING_SEGMENTS) {
    for (;;) {
      const { status } = await client.expect<{ status: string }>(
        200,
        'GET',
        `${ws}/segments/${segment}`,
        adminToken,
      );
      if (status === 'ready') break;
      if (status === 'failed') throw new Error(`segment ${segment}: backfill failed`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return { slug, writeKey, adminToken, readerToken };
}
