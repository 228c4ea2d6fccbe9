// The events plugin's error catalogue: stable codes for what events.subscriber and the emit step raise.
import { CodedError } from '@islet/sdk'

/** Stable codes and what each means; tests and operators match codes, never message text. */
export const EVENTS_ERROR_CODES = {
  ERR_EVENTS_TOPIC_INVALID: 'an emit step evaluated its topic to something that is not a topic (dotted a-z, 0-9, _ and - segments, no wildcard)',
  ERR_EVENTS_TOPIC_RESERVED: 'an emit step tried to publish under islet.*, the engine\'s own topics',
  ERR_EVENTS_NO_SUBSCRIBER: 'config warning: an emit step or emit grant names a literal topic no subscription of the app matches (islet validate)',
  ERR_EVENTS_NO_PUBLISHER: 'config warning: a subscription\'s pattern matches no topic an emit step, emit grant or the engine (islet.*) publishes (islet validate)',
  ERR_EVENTS_RUN_FAILED: 'a subscriber pipeline answered a status of 400 or more (a respond step) without throwing: the run failed, onError applies',
} as const

export type EventsErrorCode = keyof typeof EVENTS_ERROR_CODES

export class EventsError extends CodedError<EventsErrorCode> {}
