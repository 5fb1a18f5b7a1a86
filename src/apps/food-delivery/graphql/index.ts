/** The food-delivery app's GraphQL modules, imported for their side effect of registering on the builder. */
import './restaurant.js';
import './order.js';
import './orderItem.js';
import './customer.js';
import './driver.js';
import './payment.js';
import './orderMutations.js';
import './paymentMutations.js';
import './orderSubscriptions.js';
import './orderFeedSubscriptions.js';
