import type { FaultHandle, FaultSpec, Faults } from './types.ts';

/** Runtime fault rules: the first rule that matches a request and has uses left is spent on it. */

interface Rule {
  spec: FaultSpec;
  applied: number;
}

const KINDS = new Set(['500', '429', '503', 'hang', 'truncate', 'reset']);

export class FaultRules implements Faults {
  private rules: Rule[] = [];

  add(spec: FaultSpec): FaultHandle {
    if (!KINDS.has(spec.kind)) throw new TypeError(`unknown fault kind ${String(spec.kind)}`);
    if (!(spec.times > 0)) throw new RangeError('fault times must be > 0 (Infinity allowed)');
    const rule: Rule = { spec: { ...spec }, applied: 0 };
    this.rules.push(rule);
    const rules = (): Rule[] => this.rules;
    return {
      spec: rule.spec,
      get applied() { return rule.applied; },
      get remaining() { return rule.spec.times - rule.applied; },
      remove: () => { this.rules = rules().filter((r) => r !== rule); },
    };
  }

  clear(): void {
    this.rules = [];
  }

  /** The fault to apply to a request for `path`, if any; counts it as used. */
  take(path: string): FaultSpec | undefined {
    for (const rule of this.rules) {
      if (rule.applied >= rule.spec.times || !matches(rule.spec.match, path)) continue;
      rule.applied++;
      return rule.spec;
    }
    return undefined;
  }
}

function matches(match: string | RegExp, path: string): boolean {
  if (typeof match === 'string') return path.includes(match);
  match.lastIndex = 0; // a /g or /y RegExp remembers where it stopped
  return match.test(path);
}
