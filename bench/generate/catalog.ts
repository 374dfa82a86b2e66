/**
 * The shop's product catalogue. It does not depend on the seed, so product ids are stable
 * across runs and benchmarks can hard-code them in segment definitions.
 */
import { at, createPrng } from './prng.ts';
import type { Prng } from './prng.ts';

export const SHOP_ORIGIN = 'https://shop.example';
export const SHOP_NAME = 'Shop Example';

export interface Product {
  readonly productId: string;
  readonly sku: string;
  readonly name: string;
  readonly brand: string;
  readonly category: string;
  readonly priceEur: number;
  readonly path: string;
  readonly imageUrl: string;
}

export interface Category {
  readonly name: string;
  readonly slug: string;
  /** Most popular first: `pickProduct` favours the head of the list. */
  readonly products: readonly Product[];
}

export interface Catalog {
  readonly categories: readonly Category[];
}

interface CategorySpec {
  readonly name: string;
  readonly slug: string;
  readonly nouns: readonly string[];
  readonly minPrice: number;
  readonly maxPrice: number;
}

const CATEGORY_SPECS: readonly CategorySpec[] = [
  {
    name: 'Shoes',
    slug: 'shoes',
    nouns: ['Sneaker', 'Boot', 'Loafer', 'Sandal', 'Runner'],
    minPrice: 39,
    maxPrice: 189,
  },
  {
    name: 'Apparel',
    slug: 'apparel',
    nouns: ['T-Shirt', 'Hoodie', 'Jacket', 'Jeans', 'Dress'],
    minPrice: 15,
    maxPrice: 149,
  },
  {
    name: 'Accessories',
    slug: 'accessories',
    nouns: ['Backpack', 'Wallet', 'Cap', 'Scarf', 'Belt'],
    minPrice: 9,
    maxPrice: 89,
  },
  {
    name: 'Electronics',
    slug: 'electronics',
    nouns: ['Headphones', 'Speaker', 'Charger', 'Watch'],
    minPrice: 19,
    maxPrice: 399,
  },
  {
    name: 'Home & Living',
    slug: 'home-living',
    nouns: ['Mug', 'Lamp', 'Cushion', 'Blanket', 'Vase', 'Candle'],
    minPrice: 7,
    maxPrice: 129,
  },
  {
    name: 'Beauty',
    slug: 'beauty',
    nouns: ['Serum', 'Cream', 'Shampoo', 'Perfume', 'Lip Balm'],
    minPrice: 5,
    maxPrice: 95,
  },
  {
    name: 'Sports',
    slug: 'sports',
    nouns: ['Yoga Mat', 'Bottle', 'Dumbbell', 'Racket', 'Ball'],
    minPrice: 8,
    maxPrice: 159,
  },
  {
    name: 'Books',
    slug: 'books',
    nouns: ['Novel', 'Cookbook', 'Guide', 'Comic', 'Atlas'],
    minPrice: 6,
    maxPrice: 45,
  },
];

const ADJECTIVES = [
  'Classic',
  'Urban',
  'Eco',
  'Pro',
  'Cozy',
  'Retro',
  'Nordic',
  'Everyday',
  'Premium',
  'Lite',
];
const BRANDS = ['Acme', 'Northwind', 'Contoso', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay'];
const PRODUCTS_PER_CATEGORY = 30;
/** Fixed: the catalogue is the same whatever the seed. */
const CATALOG_SEED = 0x5eed_ca7a;

/** Builds the catalogue; cheap, so each generator run builds its own. */
export function buildCatalog(): Catalog {
  const prng = createPrng(CATALOG_SEED);
  const categories = CATEGORY_SPECS.map((spec, c) => ({
    name: spec.name,
    slug: spec.slug,
    products: Array.from({ length: PRODUCTS_PER_CATEGORY }, (_, i) => buildProduct(spec, c, i, prng)),
  }));
  return { categories };
}

function buildProduct(spec: CategorySpec, categoryIndex: number, i: number, prng: Prng): Product {
  const number = categoryIndex * 100 + i + 1;
  const name = `${prng.pick(ADJECTIVES)} ${prng.pick(spec.nouns)} ${String.fromCharCode(65 + (i % 26))}${i}`;
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  const productId = `prod_${String(number).padStart(4, '0')}`;
  return {
    productId,
    sku: `${spec.slug.slice(0, 3).toUpperCase()}-${String(number).padStart(5, '0')}`,
    name,
    brand: prng.pick(BRANDS),
    category: spec.name,
    priceEur: prng.int(spec.minPrice, spec.maxPrice),
    path: `/p/${slug}-${productId}`,
    imageUrl: `${SHOP_ORIGIN}/img/${productId}.jpg`,
  };
}

/** A category, favouring `favourite` (a category index) half of the time. */
export function pickCategory(catalog: Catalog, favourite: number, prng: Prng): Category {
  if (prng.chance(0.5)) return at(catalog.categories, favourite % catalog.categories.length);
  return prng.pick(catalog.categories);
}

/** A product of `category`, skewed towards best-sellers (index ~ n·u², a long tail). */
export function pickProduct(category: Category, prng: Prng): Product {
  const u = prng.next();
  return at(category.products, Math.floor(u * u * category.products.length));
}
