/** The operator surface of workflows (admin role only): one module per type or operation. */
import './workflowInstance.js';
import './workflowDefinition.js';
import './workflowSubscription.js';
import './workflowRetry.js';
