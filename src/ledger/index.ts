/** The ledger's public surface: the writer, readers, the command model and its errors. */
export { Ledger, openReader, ledgerDefaults } from './ledger.js';
export type { BatchLedger, LedgerOptions } from './ledger.js';
export { LedgerReader } from './reader.js';
export type { VerifyReport } from './verify.js';
export type { JournalEntry, JournalHead, Delta } from './journal.js';
export { LedgerError, ledgerErrorCodes } from './errors.js';
export type { LedgerErrorCode } from './errors.js';
export { limits, tooManyListed } from './limits.js';
export { isKnownCurrency, currencyExponent } from './currency.js';
export * from './types.js';
