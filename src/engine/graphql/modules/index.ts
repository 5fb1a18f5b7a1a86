/** The engine's own GraphQL: the admin API and the `events` stream. Every process serves these, app or not. */
import './admin.js';
import './eventSubscriptions.js';
