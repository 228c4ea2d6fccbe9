// Timer bounds every plugin and the engine share.

/** The longest delay setTimeout/setInterval take (2^31-1 ms, about 24.8 days): a longer one fires at once, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1
