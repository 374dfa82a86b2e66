/**
 * Properties of the e-commerce events, named as in Segment's E-commerce spec v2
 * (`product_id`, `order_id`, `revenue`, `products[]`...), and the money arithmetic behind them.
 */
import { SHOP_NAME, SHOP_ORIGIN } from './catalog.ts';
import type { Product } from './catalog.ts';
import { localPrice } from './countries.ts';
import type { Country, Currency } from './countries.ts';
import type { JsonObject } from './segment-message.ts';

export interface CartLine {
  readonly product: Product;
  readonly quantity: number;
}

export interface OrderTotals {
  readonly subtotal: number;
  readonly discount: number;
  /** Segment's `revenue`: after discount, before shipping and tax. */
  readonly revenue: number;
  readonly shipping: number;
  readonly tax: number;
  readonly total: number;
}

const FREE_SHIPPING_FROM = 50;
const SHIPPING_FEE = 4.99;

export function roundMoney(amount: number): number {
  return Math.round(amount * 100) / 100;
}

/** `Product Viewed` / `Product Added` properties. */
export function productProperties(product: Product, currency: Currency, extra: JsonObject = {}): JsonObject {
  return {
    product_id: product.productId,
    sku: product.sku,
    category: product.category,
    name: product.name,
    brand: product.brand,
    price: localPrice(product.priceEur, currency),
    currency,
    url: SHOP_ORIGIN + product.path,
    image_url: product.imageUrl,
    ...extra,
  };
}

/** The `products[]` array of cart and order events. */
export function lineItems(lines: readonly CartLine[], currency: Currency): JsonObject[] {
  return lines.map((line, i) => ({
    product_id: line.product.productId,
    sku: line.product.sku,
    category: line.product.category,
    name: line.product.name,
    brand: line.product.brand,
    price: localPrice(line.product.priceEur, currency),
    quantity: line.quantity,
    position: i + 1,
  }));
}

export function orderTotals(lines: readonly CartLine[], country: Country, couponRate: number): OrderTotals {
  let subtotal = 0;
  for (const line of lines) subtotal += localPrice(line.product.priceEur, country.currency) * line.quantity;
  subtotal = roundMoney(subtotal);
  const discount = roundMoney(subtotal * couponRate);
  const revenue = roundMoney(subtotal - discount);
  const shipping = revenue >= FREE_SHIPPING_FROM ? 0 : SHIPPING_FEE;
  const tax = roundMoney(revenue * country.salesTax);
  return { subtotal, discount, revenue, shipping, tax, total: roundMoney(revenue + shipping + tax) };
}

export interface OrderDetails {
  readonly orderId: string;
  readonly checkoutId: string;
  readonly lines: readonly CartLine[];
  readonly country: Country;
  readonly coupon: string | null;
  readonly couponRate: number;
}

/** `Checkout Started` properties. */
export function checkoutProperties(order: OrderDetails): JsonObject {
  const totals = orderTotals(order.lines, order.country, order.couponRate);
  return {
    checkout_id: order.checkoutId,
    order_id: order.orderId,
    affiliation: SHOP_NAME,
    value: totals.subtotal,
    revenue: totals.revenue,
    shipping: totals.shipping,
    tax: totals.tax,
    discount: totals.discount,
    ...(order.coupon === null ? {} : { coupon: order.coupon }),
    currency: order.country.currency,
    products: lineItems(order.lines, order.country.currency),
  };
}

/** `Order Completed` properties. */
export function orderCompletedProperties(order: OrderDetails): JsonObject {
  const totals = orderTotals(order.lines, order.country, order.couponRate);
  return {
    checkout_id: order.checkoutId,
    order_id: order.orderId,
    affiliation: SHOP_NAME,
    subtotal: totals.subtotal,
    total: totals.total,
    revenue: totals.revenue,
    shipping: totals.shipping,
    tax: totals.tax,
    discount: totals.discount,
    ...(order.coupon === null ? {} : { coupon: order.coupon }),
    currency: order.country.currency,
    products: lineItems(order.lines, order.country.currency),
  };
}
