/** Every domain module, imported for its side effect of registering on the builder. */
import './restaurant.js';
import './eventSubscriptions.js';
