/**
 * One subscriber of a causal tree (the `causalTree` subscription): its own
 * newest-state buffer (one pending tree: a newer tree replaces one the client
 * has not taken yet, so a slow client costs one tree, never a queue), fed by
 * the process's tree registry (causalTrees.ts), which reads each changed tree
 * once per hub tick for all its subscribers.
 *
 * It sends a tree only when it differs from the last one it sent; a settled
 * tree is sent last, and the subscription completes. The first tree is read
 * before the subscription starts: a tree the viewer may not see (or none)
 * refuses it with the view's error, and nothing is kept.
 */
import { GraphQLError } from 'graphql';
import type { CausalTreeRecord } from '../events/sql/readCausalTrees.js';
import { isSettledTree, type TreeMember, type WatchedTree } from './causalTrees.js';
import type { Delivery } from './delivery.js';
import { LiveState } from './liveState.js';
import { subscribers } from './metrics.js';
import type { Realtime } from './realtime.js';

/** What a viewer may see of a tree: its view, or the error that refuses (or ends) the subscription. */
export type TreeView<View> = (tree: CausalTreeRecord | undefined) => View | GraphQLError;

const TREE = '';

export const CAUSAL_TREE_KIND = 'causalTree';

class TreeSubscription<View> extends LiveState<Delivery<View>> implements TreeMember {
  private watched?: WatchedTree;
  private untrack?: () => void;
  private sent: string | undefined;
  private first?: (refusal: GraphQLError | undefined) => void;
  readonly started = new Promise<GraphQLError | undefined>((resolve) => (this.first = resolve));

  constructor(private readonly view: TreeView<View>) {
    super(undefined, 1);
  }

  join(realtime: Realtime, rootId: string): void {
    subscribers.inc({ kind: CAUSAL_TREE_KIND });
    this.untrack = realtime.track(this);
    this.watched = realtime.trees.watch(rootId, this);
  }

  receiveTree(tree: CausalTreeRecord | undefined, fingerprint: string): void {
    if (!this.isOpen) return;
    const view = this.view(tree);
    if (view instanceof GraphQLError) {
      if (this.first) return this.start(view);
      return this.finish({ error: view });
    }
    this.start(undefined);
    const final = tree !== undefined && isSettledTree(tree);
    if (fingerprint === this.sent && !final) return;
    this.sent = fingerprint;
    if (final) this.finish({ value: view });
    else this.offer(TREE, { value: view });
  }

  private start(refusal: GraphQLError | undefined): void {
    const first = this.first;
    this.first = undefined;
    first?.(refusal);
  }

  protected override overflowed(): void {
    // One key, replaced in place: never more than one tree pending.
  }

  protected override closed(): void {
    this.watched?.leave(this);
    this.untrack?.();
    subscribers.dec({ kind: CAUSAL_TREE_KIND });
    this.start(undefined);
  }
}

/** Subscribe to a root's tree; rejects with the view's error when the first tree may not be seen. */
export async function subscribeCausalTree<View>(
  realtime: Realtime,
  rootId: string,
  view: TreeView<View>,
): Promise<AsyncIterableIterator<Delivery<View>>> {
  await realtime.start();
  const subscription = new TreeSubscription<View>(view);
  // Joined before the first read, so a change committed meanwhile is read too.
  subscription.join(realtime, rootId);
  const refusal = await subscription.started;
  if (refusal) {
    await subscription.return();
    throw refusal;
  }
  return subscription;
}
