/**
 * How a subscription field lets identical WebSocket subscriptions share one
 * execution (see src/server/sharedSubscriptions.ts), declared in the field's
 * `extensions`: `latest` (live state; a joiner gets the newest result) or
 * `changes` (a feed; a joiner gets what changes from then on).
 */
export type ShareMode = 'latest' | 'changes';

/** A type, not an interface: GraphQL's field extensions are an index signature, which only a type literal satisfies. */
export type ShareExtension = { realtimeShare: ShareMode };
