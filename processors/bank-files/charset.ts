/**
 * Text that leaves in a bank file. SEPA files carry the EPC's basic Latin set only
 * (a-z A-Z 0-9 / - ? : ( ) . , ' + and space): banks may reject anything else or mangle
 * it differently along the chain. NACHA fields are upper-case ASCII. Names are
 * transliterated the way the EPC's conversion table and German banking practice do
 * (ä -> ae, ß -> ss, é -> e, & -> +), never dropped silently to nothing.
 */

const SPECIAL: Record<string, string> = {
  ä: 'ae', ö: 'oe', ü: 'ue', Ä: 'Ae', Ö: 'Oe', Ü: 'Ue', ß: 'ss', ẞ: 'SS',
  æ: 'ae', Æ: 'AE', œ: 'oe', Œ: 'OE', ø: 'o', Ø: 'O', å: 'a', Å: 'A',
  ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', ð: 'd', Ð: 'D', þ: 'th', Þ: 'TH', ı: 'i',
  '&': '+', '@': '(at)', _: '-', '"': "'", '‘': "'", '’': "'", '“': "'", '”': "'", '–': '-', '—': '-',
  '[': '(', ']': ')', '{': '(', '}': ')', '\\': '/', '#': ' ', '*': '.', '!': '.', ';': ',', '=': '-', '%': ' ', '|': '/',
};

const SEPA_CHAR = /[A-Za-z0-9/\-?:().,'+ ]/;

/** One character in the SEPA set: special table, else its base letter (é -> e), else '.'. */
function sepaChar(char: string): string {
  if (SEPA_CHAR.test(char)) return char;
  const special = SPECIAL[char];
  if (special !== undefined) return special;
  const base = char.normalize('NFD').replace(/\p{M}/gu, '');
  if (base.length > 0 && [...base].every((c) => SEPA_CHAR.test(c))) return base;
  if (/\s/u.test(char)) return ' ';
  return '.';
}

/**
 * Transliterates to the SEPA set, collapses white space and cuts to `maxLength`. A name
 * that has nothing left (only punctuation or another script) becomes `fallback`: the
 * debtor name is mandatory in a collection.
 */
export function toSepaText(value: string, maxLength: number, fallback = 'NOTPROVIDED'): string {
  const converted = [...value].map(sepaChar).join('').replace(/\s+/g, ' ').trim();
  const cut = converted.slice(0, maxLength).trim();
  return /[A-Za-z0-9]/.test(cut) ? cut : fallback;
}

/** True when every character is in the SEPA set (identifiers must arrive unchanged). */
export function isSepaText(value: string): boolean {
  return [...value].every((char) => SEPA_CHAR.test(char));
}

/** A NACHA alphanumeric field: SEPA transliteration, upper case, padded or cut to `length`. */
export function toAchText(value: string, length: number): string {
  return toSepaText(value, length, '').toUpperCase().padEnd(length, ' ').slice(0, length);
}
