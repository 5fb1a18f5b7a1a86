/** The operator surface of event delivery and workflows (admin role only): one module per concern. */
import './adminEvents.js';
import './adminDeliveries.js';
import './adminTriggers.js';
import './adminRedeliver.js';
import './adminReplay.js';
import './adminInvoke.js';
import './workflows.js';
