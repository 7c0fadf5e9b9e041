// Corral's recipes (Curator's, on the TypeScript client): locks, leader election, counters, barriers, caches.
export { InterProcessMutex, type AcquireOptions, type MutexEvents, type MutexOptions } from "./mutex.js";
export { LockLostError, RecipeStateError } from "./errors.js";
export { SessionWatcher, type ConnectionState, type SessionWatcherEvents } from "./session-watcher.js";
export {
  protectedCreate,
  protectedPrefix,
  stripProtectedPrefix,
  type ProtectedCreateOptions,
} from "./protected-create.js";
export { retryOnConnectionLoss, waitForConnection, type RetryOptions } from "./connection-retry.js";
export { ensurePath, joinPath, sortBySequence } from "./znode-paths.js";
export {
  LeaderLatch,
  type LeaderLatchEvents,
  type LeaderLatchOptions,
  type LeaderLatchState,
  type Participant,
} from "./leader-latch.js";
export { LeaderSelector, type LeaderSelectorEvents, type LeaderSelectorOptions } from "./leader-selector.js";
export {
  SharedCount,
  decodeCount,
  encodeCount,
  type SharedCountEvents,
  type VersionedValue,
} from "./shared-counter.js";
export { DistributedAtomicLong, type AtomicLongOptions, type AtomicValue } from "./atomic-long.js";
export { InterProcessReadWriteLock } from "./read-write-lock.js";
export { ReentrantLock } from "./mutex.js";
export { DistributedBarrier } from "./barrier.js";
export { NodeCache, type ChildData, type NodeCacheEvents } from "./node-cache.js";
export { ChildrenCache, type ChildrenCacheEvents } from "./children-cache.js";
export { PersistentNode, type PersistentNodeEvents, type PersistentNodeOptions } from "./persistent-node.js";
export { GroupMember } from "./group-member.js";
export { InterProcessSemaphoreV2, Lease, type SemaphoreOptions } from "./semaphore.js";
export { DistributedDoubleBarrier, type DoubleBarrierWaitOptions } from "./double-barrier.js";
export { DistributedQueue, decodeQueueItem, encodeQueueItem, type QueueTakeOptions } from "./queue.js";
export { TreeCache, type TreeCacheEvents, type TreeCacheOptions } from "./tree-cache.js";
export {
  ServiceCache,
  ServiceDiscovery,
  serviceInstance,
  type ServiceCacheEvents,
  type ServiceInstance,
} from "./service-discovery.js";
