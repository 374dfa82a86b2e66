/**
 * Reference data per country: locale, time zone, currency and plausible names.
 * Constant tables only; nothing here changes at run time.
 */

export type CountryCode = 'FR' | 'BE' | 'DE' | 'US' | 'GB' | 'ES' | 'IT' | 'NL';
export type Currency = 'EUR' | 'USD' | 'GBP';

export interface Country {
  readonly code: CountryCode;
  readonly name: string;
  /** Locales people of this country use; the first is the most common. */
  readonly locales: readonly string[];
  readonly timezone: string;
  readonly currency: Currency;
  /** Sales tax added on top of prices (US); VAT countries show tax-inclusive prices. */
  readonly salesTax: number;
  /** Relative share of the shop's customers. */
  readonly weight: number;
  readonly firstNames: readonly string[];
  readonly lastNames: readonly string[];
  readonly cities: readonly string[];
}

const FRENCH_FIRST = ['Camille', 'Léa', 'Chloé', 'Manon', 'Zoé', 'Inès', 'Hélène', 'Lucas', 'Hugo', 'Théo'];
const FRENCH_FIRST_2 = ['Louis', 'Mathéo', 'Jérôme', 'François', 'Noémie', 'Gaëlle', 'Benoît', 'Anaïs'];
const FRENCH_LAST = ['Martin', 'Bernard', 'Dubois', 'Lefèvre', 'Moreau', 'Laurent', 'Girard', 'Roux'];
const FRENCH_LAST_2 = ['Fournier', 'Lefebvre', "D'Almeida", 'Mercier', 'Faure', 'Chevalier', 'Béranger'];
const DUTCH_FIRST = ['Daan', 'Sem', 'Lieke', 'Fleur', 'Bram', 'Sanne', 'Thijs', 'Eva', 'Joost', 'Maaike'];
const DUTCH_LAST = ['de Jong', 'Jansen', 'de Vries', 'van den Berg', 'Bakker', 'Visser', 'Smit', 'Peeters'];
const GERMAN_FIRST = ['Lukas', 'Jonas', 'Leon', 'Hannah', 'Lena', 'Jürgen', 'Sören', 'Anna', 'Greta'];
const GERMAN_LAST = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Größer', 'Wagner', 'Becker'];
const ENGLISH_FIRST = ['Olivia', 'Amelia', 'Jack', 'Harry', 'Emily', 'Oliver', 'Sophie', 'James', 'Grace'];
const BRITISH_LAST = ['Smith', 'Jones', 'Taylor', 'Brown', 'Williams', "O'Neill", 'Davies', 'Evans'];
const AMERICAN_FIRST = ['Emma', 'Liam', 'Noah', 'Ava', 'Mia', 'Ethan', 'Jane', 'Mason', 'Harper', 'Logan'];
const AMERICAN_LAST = ['Johnson', 'Miller', 'Davis', 'Garcia', 'Rodriguez', 'Wilson', 'Doe', 'Nguyen'];
const SPANISH_FIRST = ['Lucía', 'Martina', 'Hugo', 'Mateo', 'Sofía', 'Álvaro', 'Paula', 'Javier', 'Núria'];
const SPANISH_LAST = ['García', 'Fernández', 'González', 'Rodríguez', 'López', 'Martínez', 'Sánchez'];
const ITALIAN_FIRST = ['Giulia', 'Francesco', 'Alessandro', 'Sofia', 'Aurora', 'Lorenzo', 'Niccolò'];
const ITALIAN_LAST = ['Rossi', 'Russo', 'Ferrari', 'Esposito', 'Bianchi', 'Romano', 'Colombo', 'Ricci'];

export const COUNTRIES: readonly Country[] = [
  {
    code: 'FR',
    name: 'France',
    locales: ['fr-FR'],
    timezone: 'Europe/Paris',
    currency: 'EUR',
    salesTax: 0,
    weight: 30,
    firstNames: [...FRENCH_FIRST, ...FRENCH_FIRST_2],
    lastNames: [...FRENCH_LAST, ...FRENCH_LAST_2],
    cities: ['Paris', 'Lyon', 'Marseille', 'Toulouse', 'Nantes', 'Lille', 'Bordeaux'],
  },
  {
    code: 'BE',
    name: 'Belgium',
    locales: ['fr-BE', 'nl-BE'],
    timezone: 'Europe/Brussels',
    currency: 'EUR',
    salesTax: 0,
    weight: 6,
    firstNames: [...FRENCH_FIRST, ...DUTCH_FIRST],
    lastNames: [...FRENCH_LAST, ...DUTCH_LAST],
    cities: ['Bruxelles', 'Antwerpen', 'Gent', 'Liège', 'Namur', 'Brugge'],
  },
  {
    code: 'DE',
    name: 'Germany',
    locales: ['de-DE'],
    timezone: 'Europe/Berlin',
    currency: 'EUR',
    salesTax: 0,
    weight: 15,
    firstNames: GERMAN_FIRST,
    lastNames: GERMAN_LAST,
    cities: ['Berlin', 'München', 'Hamburg', 'Köln', 'Frankfurt am Main', 'Leipzig'],
  },
  {
    code: 'US',
    name: 'United States',
    locales: ['en-US', 'es-US'],
    timezone: 'America/New_York',
    currency: 'USD',
    salesTax: 0.08,
    weight: 15,
    firstNames: AMERICAN_FIRST,
    lastNames: AMERICAN_LAST,
    cities: ['New York', 'San Francisco', 'Chicago', 'Austin', 'Seattle', 'Boston'],
  },
  {
    code: 'GB',
    name: 'United Kingdom',
    locales: ['en-GB'],
    timezone: 'Europe/London',
    currency: 'GBP',
    salesTax: 0,
    weight: 12,
    firstNames: ENGLISH_FIRST,
    lastNames: BRITISH_LAST,
    cities: ['London', 'Manchester', 'Birmingham', 'Leeds', 'Bristol', 'Edinburgh'],
  },
  {
    code: 'ES',
    name: 'Spain',
    locales: ['es-ES', 'ca-ES'],
    timezone: 'Europe/Madrid',
    currency: 'EUR',
    salesTax: 0,
    weight: 8,
    firstNames: SPANISH_FIRST,
    lastNames: SPANISH_LAST,
    cities: ['Madrid', 'Barcelona', 'Valencia', 'Sevilla', 'Bilbao', 'Málaga'],
  },
  {
    code: 'IT',
    name: 'Italy',
    locales: ['it-IT'],
    timezone: 'Europe/Rome',
    currency: 'EUR',
    salesTax: 0,
    weight: 8,
    firstNames: ITALIAN_FIRST,
    lastNames: ITALIAN_LAST,
    cities: ['Roma', 'Milano', 'Napoli', 'Torino', 'Bologna', 'Firenze'],
  },
  {
    code: 'NL',
    name: 'Netherlands',
    locales: ['nl-NL', 'en-NL'],
    timezone: 'Europe/Amsterdam',
    currency: 'EUR',
    salesTax: 0,
    weight: 6,
    firstNames: DUTCH_FIRST,
    lastNames: DUTCH_LAST,
    cities: ['Amsterdam', 'Rotterdam', 'Utrecht', 'Den Haag', 'Eindhoven', 'Groningen'],
  },
];

export const COUNTRY_WEIGHTS: readonly number[] = COUNTRIES.map((c) => c.weight);

/** Currency conversion from the catalogue's EUR prices, rounded by `localPrice`. */
const EUR_RATE: Readonly<Record<Currency, number>> = { EUR: 1, USD: 1.08, GBP: 0.86 };

/** A catalogue price (EUR) in the local currency, ending in .99 or .49 like shop prices do. */
export function localPrice(eur: number, currency: Currency): number {
  const raw = eur * EUR_RATE[currency];
  const whole = Math.floor(raw);
  return raw - whole < 0.5 ? whole + 0.49 : whole + 0.99;
}
