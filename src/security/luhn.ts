/** A digit as the Luhn check counts it when doubled. */
const luhnDoubled = (digit: number): number => (digit * 2 > 9 ? digit * 2 - 9 : digit * 2);

/** The Luhn check digit test every payment card number passes (ISO/IEC 7812); `digits` holds ASCII digits only. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let index = 0; index < digits.length; index += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - index) - 48;
    if (index % 2 === 1) digit = luhnDoubled(digit);
    sum += digit;
  }
  return sum % 10 === 0;
}

/**
 * Whether some `length` digits in a row of `digits` pass the Luhn check, in one pass: the check
 * doubles every second digit counting back from the window's last, so the digits at indexes of the
 * last one's parity count plain and the others doubled. Sums per index parity slide with the
 * window, so a run of millions of digits costs a few steps per digit, not a check per window.
 */
export function someWindowPassesLuhn(digits: string, length: number): boolean {
  let plainEven = 0;
  let plainOdd = 0;
  let doubledEven = 0;
  let doubledOdd = 0;
  const count = (index: number, sign: 1 | -1): void => {
    const digit = digits.charCodeAt(index) - 48;
    if (index % 2 === 0) {
      plainEven += sign * digit;
      doubledEven += sign * luhnDoubled(digit);
    } else {
      plainOdd += sign * digit;
      doubledOdd += sign * luhnDoubled(digit);
    }
  };
  for (let last = 0; last < digits.length; last += 1) {
    count(last, 1);
    if (last >= length) count(last - length, -1);
    if (last < length - 1) continue;
    const sum = last % 2 === 0 ? plainEven + doubledOdd : plainOdd + doubledEven;
    if (sum % 10 === 0) return true;
  }
  return false;
}
