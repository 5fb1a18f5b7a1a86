/**
 * A customer's e-mail address is personal data: only the customer themself,
 * the service and admins read it. Everything else about a customer (id,
 * name) is visible to whoever may see one of their orders.
 */
import type { Viewer } from '../../../engine/index.js';
import type { Customer } from '../db/schema.js';
import { foodRole } from './roles.js';

export function canReadEmail(viewer: Viewer, customer: Pick<Customer, 'id'>): boolean {
  const role = foodRole(viewer);
  return viewer.sub === customer.id || role === 'service' || role === 'admin';
}
