/**
 * An independent reading of Segment's spec (https://segment.com/docs/connections/spec/), used to
 * check the generator's output. Deliberately does not import the generator's types: a message
 * passes because it matches the spec, not because it matches our own declarations.
 */

type Json = Record<string, unknown>;

const COMMON = ['type', 'messageId', 'timestamp', 'anonymousId', 'userId', 'context', 'integrations'];
const COMMON_OPTIONAL = ['sentAt', 'receivedAt', 'originalTimestamp', 'version', 'channel'];
const SPECIFIC: Readonly<Record<string, readonly string[]>> = {
  track: ['event', 'properties'],
  page: ['name', 'category', 'properties'],
  screen: ['name', 'properties'],
  identify: ['traits'],
  group: ['groupId', 'traits'],
  alias: ['previousId'],
};
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})$/;
/** RFC 5737 documentation ranges: the only addresses the generator may use. */
const DOCUMENTATION_IP = /^(192\.0\.2|198\.51\.100|203\.0\.113)\.(\d{1,3})$/;
const LOCALE = /^[a-z]{2}-[A-Z]{2}$/;
const ECOMMERCE_EVENTS = new Set([
  'Product Viewed',
  'Product Added',
  'Cart Viewed',
  'Checkout Started',
  'Order Completed',
]);

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** Every way `message` departs from the spec; empty when it conforms. */
export function specViolations(message: unknown): string[] {
  if (!isObject(message)) return ['message is not an object'];
  const errors: string[] = [];
  const type = message.type;
  if (typeof type !== 'string' || !(type in SPECIFIC)) return [`unknown type ${String(type)}`];
  const allowed = new Set([...COMMON, ...COMMON_OPTIONAL, ...(SPECIFIC[type] ?? [])]);
  for (const key of Object.keys(message)) {
    if (!allowed.has(key)) errors.push(`${type} has unexpected field ${key}`);
    if (message[key] === undefined) errors.push(`${key} is present but undefined`);
  }
  if (!isText(message.messageId)) errors.push('messageId missing');
  if (typeof message.timestamp !== 'string' || !ISO_8601.test(message.timestamp)) {
    errors.push(`timestamp ${String(message.timestamp)} is not ISO 8601`);
  } else if (!Number.isFinite(Date.parse(message.timestamp))) errors.push('timestamp is not a date');
  for (const key of ['anonymousId', 'userId', 'previousId']) {
    if (key in message && !isText(message[key])) errors.push(`${key} must be a non-empty string`);
  }
  errors.push(...identityViolations(type, message), ...typeViolations(type, message));
  errors.push(...contextViolations(message.context));
  return errors;
}

function identityViolations(type: string, message: Json): string[] {
  if (type === 'alias') {
    return isText(message.previousId) && isText(message.userId) ? [] : ['alias needs previousId and userId'];
  }
  return isText(message.userId) || isText(message.anonymousId) ? [] : [`${type} needs userId or anonymousId`];
}

function typeViolations(type: string, message: Json): string[] {
  const errors: string[] = [];
  const objectField = (key: string, required: boolean): void => {
    if (key in message ? !isObject(message[key]) : required) errors.push(`${type}.${key} must be an object`);
  };
  switch (type) {
    case 'track':
      if (!isText(message.event)) errors.push('track needs event');
      objectField('properties', false);
      if (typeof message.event === 'string' && ECOMMERCE_EVENTS.has(message.event)) {
        errors.push(...ecommerceViolations(message.event, message.properties));
      }
      break;
    case 'page': {
      objectField('properties', true);
      const properties = isObject(message.properties) ? message.properties : {};
      for (const key of ['url', 'path', 'title']) {
        if (!isText(properties[key])) errors.push(`page.properties.${key} missing`);
      }
      if ('name' in message && !isText(message.name)) errors.push('page.name must be a string');
      break;
    }
    case 'screen':
      if (!isText(message.name)) errors.push('screen needs name');
      objectField('properties', false);
      break;
    case 'identify':
      objectField('traits', false);
      break;
    case 'group':
      if (!isText(message.groupId)) errors.push('group needs groupId');
      objectField('traits', false);
      break;
  }
  return errors;
}

function contextViolations(context: unknown): string[] {
  if (context === undefined) return [];
  if (!isObject(context)) return ['context must be an object'];
  const errors: string[] = [];
  const library = context.library;
  if (!isObject(library) || !isText(library.name) || !isText(library.version)) {
    errors.push('context.library needs name and version');
  }
  const ipMatch = typeof context.ip === 'string' ? DOCUMENTATION_IP.exec(context.ip) : null;
  if ('ip' in context && (ipMatch === null || Number(ipMatch[2]) > 255)) {
    errors.push(`context.ip ${String(context.ip)} is not a documentation address`);
  }
  if ('locale' in context && (typeof context.locale !== 'string' || !LOCALE.test(context.locale))) {
    errors.push(`context.locale ${String(context.locale)} is not a locale`);
  }
  if ('userAgent' in context && !isText(context.userAgent)) errors.push('context.userAgent must be a string');
  if ('page' in context) {
    const page = context.page;
    if (!isObject(page) || !['path', 'url', 'title'].every((key) => isText(page[key]))) {
      errors.push('context.page needs path, url and title');
    }
  }
  if ('consent' in context) {
    const consent = context.consent;
    const preferences = isObject(consent) ? consent.categoryPreferences : undefined;
    if (!isObject(preferences) || !Object.values(preferences).every((v) => typeof v === 'boolean')) {
      errors.push('context.consent.categoryPreferences must map categories to booleans');
    }
  }
  return errors;
}

/** Segment E-commerce spec v2, for the fields the generator promises. */
function ecommerceViolations(event: string, properties: unknown): string[] {
  if (!isObject(properties)) return [`${event} needs properties`];
  const errors: string[] = [];
  const need = (key: string, check: (value: unknown) => boolean): void => {
    if (!check(properties[key])) errors.push(`${event}.properties.${key} is invalid`);
  };
  const money = (value: unknown): boolean =>
    typeof value === 'number' && Number.isFinite(value) && value >= 0;
  const currency = (value: unknown): boolean => typeof value === 'string' && /^[A-Z]{3}$/.test(value);
  const products = (value: unknown): boolean =>
    Array.isArray(value) &&
    value.length > 0 &&
    value.every(
      (p) =>
        isObject(p) &&
        isText(p.product_id) &&
        isText(p.category) &&
        money(p.price) &&
        Number.isInteger(p.quantity) &&
        (p.quantity as number) >= 1,
    );
  if (event === 'Product Viewed' || event === 'Product Added') {
    need('product_id', isText);
    need('category', isText);
    need('price', money);
  }
  if (event === 'Product Added') need('quantity', (v) => Number.isInteger(v) && (v as number) >= 1);
  if (event === 'Cart Viewed') need('products', products);
  if (event === 'Checkout Started' || event === 'Order Completed') {
    need('order_id', isText);
    need('revenue', money);
    need('currency', currency);
    need('products', products);
  }
  return errors;
}
