/** The engine's own GraphQL: the admin API, the `events` stream, the causal tree and the delivery stats. Every process serves these, app or not. */
import './admin.js';
import './eventSubscriptions.js';
import './causalTree.js';
import './deliveryStats.js';
