/** Immutability for values shared after construction (configuration, cached documents). */

/** Deep-freezes a plain object graph so nothing can change it after construction (URLs are left as they are). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof URL)) {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}
