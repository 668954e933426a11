/** The generated gRPC contract, re-exported in one place for the server, translators and SDK. */
export * from '../gen/tillgate/v1/common.js';
export * from '../gen/tillgate/v1/returns_service.js';
export * from '../gen/tillgate/v1/sales_service.js';
export * from '../gen/tillgate/v1/inventory_service.js';
export * from '../gen/tillgate/v1/admin_service.js';
// Each generated file declares these helpers; name the one we mean.
export type { DeepPartial, MessageFns } from '../gen/tillgate/v1/common.js';
export { protobufPackage, protobufFileName } from '../gen/tillgate/v1/common.js';
