import { z } from 'zod';
import { FAULT_KINDS } from './index';
import { attributesOf } from './define';

/** One attribute of a kind as read from its schema: for `chaos inject` flags and the README's table. */
export interface AttributeInfo {
  name: string;
  type: 'number' | 'boolean' | 'string' | 'record';
  options?: readonly string[];
  default?: unknown;
  required: boolean;
}

export function attributeInfo(schema: z.AnyZodObject): AttributeInfo[] {
  return attributesOf(schema).map((name) => {
    let t: z.ZodTypeAny = schema.shape[name];
    let required = true;
    let dflt: unknown;
    for (;;) {
      if (t instanceof z.ZodDefault)
        [dflt, required, t] = [t._def.defaultValue(), false, t._def.innerType];
      else if (t instanceof z.ZodOptional) [required, t] = [false, t._def.innerType];
      else break;
    }
    if (t instanceof z.ZodNumber) return { name, type: 'number', default: dflt, required };
    if (t instanceof z.ZodBoolean) return { name, type: 'boolean', default: dflt, required };
    if (t instanceof z.ZodEnum)
      return { name, type: 'string', options: t.options as string[], default: dflt, required };
    if (t instanceof z.ZodRecord) return { name, type: 'record', default: dflt, required };
    return { name, type: 'string', default: dflt, required };
  });
}

const shown = (a: AttributeInfo) =>
  `\`${a.name}\`${a.default !== undefined ? `=${String(a.default)}` : a.required ? '' : '?'}${a.options && a.options.length <= 4 ? ` (${a.options.join('\\|')})` : ''}`;

/** The fault kinds as a Markdown table, generated from the registry (experiments/README.md holds a copy; a test compares). */
export function faultKindsTable(): string {
  const rows = FAULT_KINDS.map((k) => {
    const attrs = attributeInfo(k.schema).map(shown).join(', ');
    return `| \`${k.type}\` | ${k.summary.replace(/\|/g, '\\|')} | ${attrs} | ${k.facts.map((f) => `\`${f}\``).join(', ') || '—'} |`;
  });
  return [
    '| type | what it does | attributes (`=default`, `?` optional) | facts it raises |',
    '|---|---|---|---|',
    ...rows,
  ].join('\n');
}
