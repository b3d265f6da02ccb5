/**
 * Labels on registered resources and label selectors in roles.
 *
 * ## Label keys
 * 1–128 characters from `[a-zA-Z0-9/_.:-]`, starting with a letter or digit: plain keys (`env`),
 * Kubernetes-style prefixed keys (`example.com/team`) and Teleport's internal keys
 * (`teleport.internal/bot`) all fit. `*` is not allowed in a label key because `*` in a selector
 * means "any key".
 *
 * ## Label values
 * 1–256 characters without control characters. Empty values are rejected so that a selector
 * glob always has something to match.
 *
 * ## Selectors
 * A selector maps a label key (or `*`, any key) to a glob or a list of globs. Input may be a single
 * string or a list; the canonical form is always a list. The only wildcard is `*` (any run of
 * characters, possibly empty). Teleport also accepts regular expressions (`^env-(a|b)$`); we do
 * not, and reject regex syntax with a message saying so, because a regex silently read as a
 * literal glob would match nothing and leave the operator puzzled.
 *
 * Both maps come out with keys in sorted order, so stored JSON and printed YAML are stable.
 */
import * as z from 'zod'
import { text, typeError } from './fields.ts'

/** Most labels on one resource, and most keys in one selector. */
export const MAX_LABELS = 64
/** Most globs for one selector key. */
export const MAX_SELECTOR_VALUES = 64

const LABEL_KEY = /^[a-zA-Z0-9][a-zA-Z0-9/_.:-]{0,127}$/
const LABEL_KEY_PROBLEM =
  'label keys must be 1 to 128 characters from letters, digits, "/", "_", ".", ":" and "-", starting with a letter or digit'

/** Characters that mean something in a regular expression but not in our globs. */
const REGEX_SYNTAX = /[\^$()[\]{}|\\+?]/

const labelKey = z.string().regex(LABEL_KEY, LABEL_KEY_PROBLEM)
const selectorKey = z
  .string()
  .refine((key) => key === '*' || LABEL_KEY.test(key), `${LABEL_KEY_PROBLEM}, or exactly "*" for any key`)

const labelValue = text(256)

/** A selector glob: a label value pattern where `*` is the only wildcard. */
export const labelGlob = text(256).refine((value) => !REGEX_SYNTAX.test(value), {
  message:
    'only "*" is supported as a wildcard in label selectors; regular expression syntax (^ $ ( ) [ ] { } | \\ + ?) is not',
})

/**
 * A record schema that also rejects the keys zod would silently drop (`__proto__`), sorts keys
 * and limits their number.
 */
function sortedRecord<V extends z.ZodType>(key: z.ZodType<string>, value: V, what: string) {
  return z
    .preprocess(
      (input, ctx) => {
        if (input !== null && typeof input === 'object' && Object.hasOwn(input, '__proto__')) {
          ctx.issues.push({
            code: 'custom',
            message: `"__proto__" is not a valid ${what} key`,
            input,
            path: ['__proto__'],
          })
        }
        return input
      },
      z.record(key, value, {
        error: typeError(`expected a mapping of ${what}s`),
      }),
    )
    .refine((record) => Object.keys(record).length <= MAX_LABELS, `must have at most ${MAX_LABELS} keys`)
    .transform((record) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1))))
    .default({})
}

/** Labels on a registered resource: exact key → value strings (see the module comment). */
export const labels = sortedRecord(labelKey, labelValue, 'label')

/** The globs for one selector key: a string or a list, normalised to a non-empty list. */
const selectorValues = z.preprocess(
  (value) => (typeof value === 'string' ? [value] : value),
  z
    .array(labelGlob, {
      error: typeError('expected a string or a list of strings'),
    })
    .min(1, 'needs at least one value; remove the key to match nothing')
    .max(MAX_SELECTOR_VALUES, `must have at most ${MAX_SELECTOR_VALUES} values`),
)

/** A label selector in a role (see the module comment); absent means `{}`, matching nothing. */
export const labelSelector = sortedRecord(selectorKey, selectorValues, 'label selector')
