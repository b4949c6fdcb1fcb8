// Intl formatters, built once per locale and options. Building one loads locale data and costs
// about as much as a thousand uses (a clearing statement formats a few hundred amounts: building a
// formatter per amount was most of its render time). Pure, so workflow code may use them too.

const MAX_CACHED = 500;
const numberFormats = new Map<string, Intl.NumberFormat>();
const dateTimeFormats = new Map<string, Intl.DateTimeFormat>();

function cached<F>(cache: Map<string, F>, key: string, build: () => F): F {
  let format = cache.get(key);
  if (format === undefined) {
    // The options come from code and configuration (currencies, time zones): a handful. The cap
    // only guards against a caller that passes something unbounded.
    if (cache.size >= MAX_CACHED) cache.clear();
    format = build();
    cache.set(key, format);
  }
  return format;
}

export function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  return cached(numberFormats, `${locale}|${JSON.stringify(options)}`, () => new Intl.NumberFormat(locale, options));
}

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  return cached(dateTimeFormats, `${locale}|${JSON.stringify(options)}`, () => new Intl.DateTimeFormat(locale, options));
}
