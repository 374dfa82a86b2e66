/**
 * One visit to the shop: landing, browsing, and the purchase funnel
 * (Product Viewed → Product Added → Cart Viewed → Checkout Started → Order Completed),
 * with a drop-off at each step that depends on the kind of buyer.
 */
import { pickCategory, pickProduct, SHOP_NAME } from './catalog.ts';
import type { Catalog, Category, Product } from './catalog.ts';
import {
  checkoutProperties,
  lineItems,
  orderCompletedProperties,
  productProperties,
} from './commerce-properties.ts';
import type { CartLine, OrderDetails } from './commerce-properties.ts';
import { guestCheckout, logIn, subscribe } from './identity-actions.ts';
import type { JourneyState } from './identity-actions.ts';
import { uniqueToken } from './permutation.ts';
import type { BuyerProfile } from './person.ts';
import type { SegmentContext } from './segment-message.ts';
import type { SessionEmitter, View } from './session-emitter.ts';

export interface SessionSettings {
  readonly catalog: Catalog;
  readonly state: JourneyState;
  readonly orderSalt: number;
  /** Log in at the start whatever the odds (kiosk sessions, shared-e-mail members' first visit). */
  readonly forceLogin: boolean;
}

interface FunnelRates {
  /** Per session with at least one product viewed. */
  readonly add: number;
  readonly cartView: number;
  readonly checkout: number;
  readonly order: number;
}

/**
 * Typical e-commerce drop-offs: roughly 10% of sessions add to cart, 60-70% of those look at
 * the cart, half start a checkout, 60% of checkouts complete. "never" people never complete.
 */
const FUNNEL: Readonly<Record<BuyerProfile, FunnelRates>> = {
  never: { add: 0.06, cartView: 0.6, checkout: 0.15, order: 0 },
  occasional: { add: 0.25, cartView: 0.7, checkout: 0.55, order: 0.6 },
  frequent: { add: 0.4, cartView: 0.75, checkout: 0.7, order: 0.8 },
};

const CAMPAIGNS: readonly (readonly [string, string, string, string])[] = [
  ['newsletter', 'email', 'weekly-picks', ''],
  ['google', 'cpc', 'brand-search', 'https://www.search.example/'],
  ['facebook', 'social', 'spring-sale', 'https://social.example/'],
  ['instagram', 'social', 'new-arrivals', 'https://photos.example/'],
  ['partner-blog', 'referral', 'gift-guide', 'https://blog.example/gift-guide'],
];
const ORGANIC_REFERRERS = ['', '', 'https://www.search.example/', 'https://www.search.example/'];
const COUPONS = ['WELCOME10', 'SPRING15', 'VIP20'];

export function runSession(emitter: SessionEmitter, settings: SessionSettings): void {
  const viewed = land(emitter, settings);
  identifyAtStart(emitter, settings);
  browse(emitter, settings, viewed);
  if (viewed.length > 0) funnel(emitter, settings, viewed);
}

function land(emitter: SessionEmitter, settings: SessionSettings): Product[] {
  const { prng, person } = emitter;
  if (prng.chance(0.25)) {
    const [source, medium, name, referrer] = prng.pick(CAMPAIGNS);
    const campaign: NonNullable<SegmentContext['campaign']> = { name, source, medium };
    emitter.enterFrom(referrer, campaign);
  } else {
    emitter.enterFrom(prng.pick(ORGANIC_REFERRERS), null);
  }
  const search = emitter.campaignSearch();
  const r = prng.next();
  if (r < 0.5) {
    emitter.visit({ name: 'Home', path: '/', title: `${SHOP_NAME} – Home`, search });
    return [];
  }
  const category = pickCategory(settings.catalog, person.favouriteCategory, prng);
  if (r < 0.8) {
    emitter.visit({ ...categoryView(category), search });
    return [];
  }
  const product = pickProduct(category, prng);
  viewProduct(emitter, product, search);
  return [product];
}

function identifyAtStart(emitter: SessionEmitter, settings: SessionSettings): void {
  const { person, prng, memory, device } = emitter;
  const loginRate = device.platform === 'app' ? 0.6 : 0.25;
  if (memory.userId === undefined && person.userId !== null) {
    if (settings.forceLogin || prng.chance(loginRate)) {
      emitter.wait(10);
      logIn(emitter, settings.state);
      return;
    }
  }
  if (!memory.emailSent && prng.chance(0.05)) subscribe(emitter, settings.state);
}

function browse(emitter: SessionEmitter, settings: SessionSettings, viewed: Product[]): void {
  const { prng, person } = emitter;
  const products = prng.poisson(1.3);
  for (let i = 0; i < products; i++) {
    const category = pickCategory(settings.catalog, person.favouriteCategory, prng);
    emitter.wait(25);
    if (prng.chance(0.35)) {
      emitter.visit(categoryView(category));
      emitter.wait(15);
    }
    const product = pickProduct(category, prng);
    viewProduct(emitter, product, '');
    viewed.push(product);
  }
}

function funnel(emitter: SessionEmitter, settings: SessionSettings, viewed: readonly Product[]): void {
  const { prng, person } = emitter;
  const rates = FUNNEL[person.profile];
  const currency = person.country.currency;
  if (!prng.chance(rates.add)) return;
  const cartId = prng.uuid();
  const lines = addToCart(emitter, viewed, cartId);
  if (!prng.chance(rates.cartView)) return;
  emitter.wait(20);
  emitter.visit({ name: 'Cart', path: '/cart', title: `Your cart | ${SHOP_NAME}` });
  emitter.track('Cart Viewed', { cart_id: cartId, products: lineItems(lines, currency) });
  if (!prng.chance(rates.checkout)) return;
  emitter.wait(15);
  if (!identifyForCheckout(emitter, settings)) return;
  const order = newOrder(emitter, settings, lines);
  emitter.visit({ name: 'Checkout', path: '/checkout', title: `Checkout | ${SHOP_NAME}` });
  emitter.track('Checkout Started', checkoutProperties(order));
  if (!prng.chance(rates.order)) return;
  emitter.wait(90);
  emitter.visit({
    name: 'Order Confirmation',
    path: '/checkout/confirmation',
    title: `Thank you | ${SHOP_NAME}`,
  });
  emitter.track('Order Completed', orderCompletedProperties(order));
  settings.state.orders++;
}

function addToCart(emitter: SessionEmitter, viewed: readonly Product[], cartId: string): CartLine[] {
  const { prng, person } = emitter;
  const count = Math.min(viewed.length, prng.chance(0.25) ? 2 : 1);
  const lines: CartLine[] = [];
  for (let i = 0; i < count; i++) {
    const product = viewed[viewed.length - 1 - i];
    if (product === undefined) break;
    const quantity = prng.weighted([1, 2, 3], [80, 15, 5]);
    emitter.wait(8);
    emitter.track(
      'Product Added',
      productProperties(product, person.country.currency, { cart_id: cartId, quantity }),
    );
    lines.push({ product, quantity });
  }
  return lines;
}

/** Checkout needs to know who buys: a login, or an e-mail for a guest order. */
function identifyForCheckout(emitter: SessionEmitter, settings: SessionSettings): boolean {
  const { person, memory, prng } = emitter;
  if (memory.userId !== undefined) return true;
  if (person.userId !== null && prng.chance(0.85)) {
    logIn(emitter, settings.state);
    return true;
  }
  return guestCheckout(emitter, settings.state);
}

function newOrder(emitter: SessionEmitter, settings: SessionSettings, lines: CartLine[]): OrderDetails {
  const { person, prng } = emitter;
  const number = ++settings.state.checkouts;
  const coupon = prng.chance(0.15) ? prng.pick(COUPONS) : null;
  const token = uniqueToken(person.index, settings.orderSalt).toUpperCase();
  return {
    // The per-person token keeps order ids unique across people; the counter within a person.
    orderId: `ORD-${token}-${String(number).padStart(3, '0')}`,
    checkoutId: prng.uuid(),
    lines,
    country: person.country,
    coupon,
    couponRate: coupon === null ? 0 : Number(coupon.slice(-2)) / 100,
  };
}

function categoryView(category: Category): View {
  return {
    name: 'Category',
    path: `/c/${category.slug}`,
    title: `${category.name} | ${SHOP_NAME}`,
    screenProperties: { category: category.name },
  };
}

function viewProduct(emitter: SessionEmitter, product: Product, search: string): void {
  emitter.visit({
    name: 'Product',
    path: product.path,
    title: `${product.name} | ${SHOP_NAME}`,
    search,
    screenProperties: { product_id: product.productId, category: product.category },
  });
  emitter.track('Product Viewed', productProperties(product, emitter.person.country.currency));
}
