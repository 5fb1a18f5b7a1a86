/** Every domain module, imported for its side effect of registering on the builder. */
import './restaurant.js';
import './order.js';
import './orderItem.js';
import './customer.js';
import './driver.js';
import './payment.js';
import './placeOrder.js';
import './orderMutations.js';
import './paymentMutations.js';
import './admin.js';
import './eventSubscriptions.js';
import './orderSubscriptions.js';
import './orderFeedSubscriptions.js';
