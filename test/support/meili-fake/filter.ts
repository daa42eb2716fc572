import { badRequest, type MeiliError } from './errors.ts';

/**
 * The part of Meilisearch's filter language the fake understands: `=`, `!=`, `>`, `>=`, `<`, `<=`,
 * `IN [..]`, `NOT IN [..]`, `a TO b`, `EXISTS`, `NOT`, `AND`, `OR`, parentheses, words and quoted
 * strings ('…' or "…", a backslash escaping the next character), and the array form (outer array
 * AND, inner arrays OR). Attributes must be filterable. As in Meilisearch, string equality ignores
 * case and surrounding spaces, `!=` is the negation of `=` (so it matches documents without the
 * field), a condition on an array matches when any element does, and the comparison operators only
 * match numbers.
 */
export type Filter =
  | { kind: 'and' | 'or'; left: Filter; right: Filter }
  | { kind: 'not'; inner: Filter }
  | { kind: 'cmp'; attr: string; op: '=' | '!=' | '>' | '>=' | '<' | '<='; value: string }
  | { kind: 'in'; attr: string; values: string[] }
  | { kind: 'to'; attr: string; from: string; to: string }
  | { kind: 'exists'; attr: string };

type Token = { t: 'word' | 'quoted' | 'op' | 'punct'; v: string; at: number };

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'TO', 'EXISTS', 'IS', 'NULL', 'EMPTY', 'CONTAINS', 'STARTS', 'WITH']);

function tokenize(src: string, code: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      const start = i++;
      let v = '';
      for (;;) {
        if (i >= src.length) throw badRequest(code, `Expression \`${src}\` is missing a closing \`${c}\` for the quote opened at ${start}.`);
        const ch = src[i]!;
        if (ch === '\\' && i + 1 < src.length) {
          v += src[i + 1];
          i += 2;
        } else if (ch === c) {
          i++;
          break;
        } else {
          v += ch;
          i++;
        }
      }
      out.push({ t: 'quoted', v, at: start });
    } else if ('()[],'.includes(c)) {
      out.push({ t: 'punct', v: c, at: i++ });
    } else if (c === '!' && src[i + 1] === '=') {
      out.push({ t: 'op', v: '!=', at: i });
      i += 2;
    } else if ((c === '>' || c === '<') && src[i + 1] === '=') {
      out.push({ t: 'op', v: c + '=', at: i });
      i += 2;
    } else if (c === '=' || c === '>' || c === '<') {
      out.push({ t: 'op', v: c, at: i++ });
    } else if (/[\p{L}\p{N}_.-]/u.test(c)) {
      const start = i;
      while (i < src.length && /[\p{L}\p{N}_.-]/u.test(src[i]!)) i++;
      out.push({ t: 'word', v: src.slice(start, i), at: start });
    } else {
      throw badRequest(code, `Was expecting a value but instead got \`${c}\` at ${i} in \`${src}\`.`);
    }
  }
  return out;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly toks: Token[],
    private readonly src: string,
    private readonly code: string,
  ) {}

  parse(): Filter {
    const f = this.or();
    if (this.pos < this.toks.length) throw this.fail(`Found unexpected characters at the end of the filter: \`${this.src.slice(this.toks[this.pos]!.at)}\``);
    return f;
  }

  private fail(msg: string): MeiliError {
    return badRequest(this.code, `${msg}. (in \`${this.src}\`)`);
  }
  private peek(): Token | undefined {
    return this.toks[this.pos];
  }
  private isKw(kw: string, tok = this.peek()): boolean {
    return tok?.t === 'word' && tok.v === kw;
  }
  private expectPunct(p: string): void {
    const tok = this.peek();
    if (tok?.t !== 'punct' || tok.v !== p) throw this.fail(`Expected \`${p}\``);
    this.pos++;
  }

  private or(): Filter {
    let left = this.and();
    while (this.isKw('OR')) {
      this.pos++;
      left = { kind: 'or', left, right: this.and() };
    }
    return left;
  }
  private and(): Filter {
    let left = this.not();
    while (this.isKw('AND')) {
      this.pos++;
      left = { kind: 'and', left, right: this.not() };
    }
    return left;
  }
  private not(): Filter {
    if (this.isKw('NOT')) {
      this.pos++;
      return { kind: 'not', inner: this.not() };
    }
    const tok = this.peek();
    if (tok?.t === 'punct' && tok.v === '(') {
      this.pos++;
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    return this.condition();
  }

  private value(): string {
    const tok = this.peek();
    if (tok?.t === 'quoted') {
      this.pos++;
      return tok.v;
    }
    if (tok?.t === 'word' && !KEYWORDS.has(tok.v)) {
      this.pos++;
      return tok.v;
    }
    throw this.fail(`Was expecting a value${tok ? ` but instead got \`${tok.v}\`` : ''}`);
  }

  private condition(): Filter {
    const attr = this.value();
    const tok = this.peek();
    if (tok?.t === 'op') {
      this.pos++;
      return { kind: 'cmp', attr, op: tok.v as '=', value: this.value() };
    }
    if (this.isKw('EXISTS')) {
      this.pos++;
      return { kind: 'exists', attr };
    }
    if (this.isKw('IN')) {
      this.pos++;
      return { kind: 'in', attr, values: this.list() };
    }
    if (this.isKw('NOT')) {
      const next = this.toks[this.pos + 1];
      if (this.isKw('IN', next)) {
        this.pos += 2;
        return { kind: 'not', inner: { kind: 'in', attr, values: this.list() } };
      }
      if (this.isKw('EXISTS', next)) {
        this.pos += 2;
        return { kind: 'not', inner: { kind: 'exists', attr } };
      }
    }
    if (this.isKw('IS') || this.isKw('CONTAINS') || this.isKw('STARTS')) {
      throw this.fail(`\`${tok!.v}\` is not modelled by the in-repo Meilisearch fake`);
    }
    // `attr from TO to`
    if (tok && tok.t !== 'punct') {
      const from = this.value();
      if (!this.isKw('TO')) throw this.fail('Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`');
      this.pos++;
      return { kind: 'to', attr, from, to: this.value() };
    }
    throw this.fail('Was expecting an operation `=`, `!=`, `>=`, `>`, `<=`, `<`, `IN`, `NOT IN`, `TO`, `EXISTS`, `NOT EXISTS`');
  }

  private list(): string[] {
    this.expectPunct('[');
    const values: string[] = [];
    while (!(this.peek()?.t === 'punct' && this.peek()!.v === ']')) {
      values.push(this.value());
      const tok = this.peek();
      if (tok?.t === 'punct' && tok.v === ',') this.pos++;
      else if (!(tok?.t === 'punct' && tok.v === ']')) throw this.fail('Expected `,` or `]`');
    }
    this.pos++;
    return values;
  }
}

/** Parses a filter (string or array form); undefined when there is none. */
export function parseFilter(input: unknown, code: string): Filter | undefined {
  if (input === undefined || input === null) return undefined;
  if (typeof input === 'string') {
    if (input.trim() === '') return undefined;
    return new Parser(tokenize(input, code), input, code).parse();
  }
  if (Array.isArray(input)) {
    const parts = input
      .map((el): Filter | undefined => {
        if (Array.isArray(el)) {
          const ors = el.map((s) => parseFilter(s, code)).filter((f): f is Filter => f !== undefined);
          return ors.reduce<Filter | undefined>((a, b) => (a ? { kind: 'or', left: a, right: b } : b), undefined);
        }
        return parseFilter(el, code);
      })
      .filter((f): f is Filter => f !== undefined);
    return parts.reduce<Filter | undefined>((a, b) => (a ? { kind: 'and', left: a, right: b } : b), undefined);
  }
  throw badRequest(code, `Invalid value type: expected a string or an array, found ${JSON.stringify(input)}.`);
}

export function attributesOf(f: Filter): string[] {
  switch (f.kind) {
    case 'and':
    case 'or':
      return [...attributesOf(f.left), ...attributesOf(f.right)];
    case 'not':
      return attributesOf(f.inner);
    default:
      return [f.attr];
  }
}

/** Refuses attributes that are not filterable, with Meilisearch's message. */
export function checkFilterable(f: Filter, filterable: string[], code: string): void {
  for (const attr of attributesOf(f)) {
    if (!filterable.includes(attr)) {
      const available = filterable.length ? filterable.map((a) => `\`${a}\``).join(', ') : 'none';
      throw badRequest(code, `Attribute \`${attr}\` is not filterable. Available filterable attribute patterns are: ${available}.`);
    }
  }
}

// Meilisearch trims and lower-cases string facet values (milli #133), for filters and facet counts alike.
const norm = (s: string) => s.trim().toLowerCase();

function asNumber(s: string): number | undefined {
  const n = Number(s);
  return s.trim() !== '' && Number.isFinite(n) ? n : undefined;
}

function valuesOf(doc: Record<string, unknown>, attr: string): unknown[] {
  const v = doc[attr];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

function equals(v: unknown, target: string): boolean {
  if (typeof v === 'number') return asNumber(target) === v;
  if (typeof v === 'string') return norm(v) === norm(target);
  if (typeof v === 'boolean') return String(v) === norm(target);
  return false;
}

export function matches(f: Filter, doc: Record<string, unknown>): boolean {
  switch (f.kind) {
    case 'and':
      return matches(f.left, doc) && matches(f.right, doc);
    case 'or':
      return matches(f.left, doc) || matches(f.right, doc);
    case 'not':
      return !matches(f.inner, doc);
    case 'exists':
      return doc[f.attr] !== undefined;
    case 'in':
      return valuesOf(doc, f.attr).some((v) => f.values.some((t) => equals(v, t)));
    case 'to': {
      const [lo, hi] = [asNumber(f.from), asNumber(f.to)];
      if (lo === undefined || hi === undefined) return false;
      return valuesOf(doc, f.attr).some((v) => typeof v === 'number' && v >= lo && v <= hi);
    }
    case 'cmp': {
      const values = valuesOf(doc, f.attr);
      if (f.op === '=') return values.some((v) => equals(v, f.value));
      if (f.op === '!=') return !values.some((v) => equals(v, f.value));
      const t = asNumber(f.value);
      if (t === undefined) return false;
      return values.some((v) => {
        if (typeof v !== 'number') return false;
        switch (f.op) {
          case '>':
            return v > t;
          case '>=':
            return v >= t;
          case '<':
            return v < t;
          default:
            return v <= t;
        }
      });
    }
  }
}
