// Public surface of the ISO 8583 codec, the line-item sub-format and the dialect registry.
export { CodecError } from './errors.js';
export type { CodecErrorCode } from './errors.js';
export { decode, encode, peekMti } from './iso.js';
export type { IsoMessage } from './iso.js';
export type { FieldValue } from './fields.js';
export { compileDialect } from './table.js';
export {
  decodeLineDecisions, decodeLineItems, encodeLineDecisions, encodeLineItems, lineDecisionsTag, lineItemChars,
  lineItemLimitsDefault, lineItemsTag, lineReasons,
} from './line-items.js';
export type { Disposition, LineDecision, LineDecisionCode, LineItem, LineItemLimits } from './line-items.js';
export {
  DialectError, fixedDialectProblems, fixedV1, getDialect, getIsoDialect, iso87Ascii, iso87Binary, iso87BinaryTpdu,
  loadDialectFile, parseDialectJson, shippedDialectNames, validateIsoDialect,
} from '../dialect/index.js';
export type { ShippedDialectName } from '../dialect/index.js';
export type * from '../dialect/types.js';
export * as fixed from '../fixed/index.js';
export { LengthFramer, LineFramer, FramerError, lengthFrameBytesCeiling } from '../framer.js';
export type { FrameEvent, FramerErrorCode, LengthFramerOptions, LengthHeader, LineFramerOptions } from '../framer.js';
export { maskPan, redact, alwaysRedactedFields } from '../pan.js';
export type { LoggableMessage } from '../pan.js';
/** Field that carries line items in the iso87 dialects (ISO 8583 "additional data - private"). */
export const lineItemsField = 48;
