/** Public surface of the workload generator; benchmarks import from here. */
export { generatePeople, generatePerson, generatePersons, generateShop } from './generate-shop.ts';
export type { GeneratedPerson } from './generate-shop.ts';
export type { PersonTruth } from './person-truth.ts';
export {
  DEFAULT_END,
  DEFAULT_SUPER_NODE_EMAIL,
  InvalidShopOptionsError,
  MAX_PEOPLE,
  resolveShopOptions,
  validateShopOptions,
} from './shop-options.ts';
export type {
  ResolvedShopOptions,
  ShopOptions,
  ShopOptionsResult,
  StreamOrder,
  SuperNodeKind,
  SuperNodeOptions,
} from './shop-options.ts';
export type {
  AliasMessage,
  GeneratedMessage,
  GroupMessage,
  IdentifyMessage,
  PageMessage,
  ScreenMessage,
  SegmentContext,
  SegmentMessage,
  SegmentMessageType,
  TrackMessage,
} from './segment-message.ts';
export { SEGMENT_MESSAGE_TYPES } from './segment-message.ts';
export { shuffleWindow, timeOrder } from './stream-order.ts';
export { normalizeEmail } from './email.ts';
export { countMessage, createSummary, formatSummary } from './shop-summary.ts';
export type { ShopSummary } from './shop-summary.ts';
export { createPrng } from './prng.ts';
export type { Prng } from './prng.ts';
