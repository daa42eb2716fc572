import assert from 'node:assert/strict';
import { float16BitsToFloat32, float32ToFloat16Bits } from '../../../models/generate/float16.ts';

describe('generate: float16', () => {
  it('encodes exact values, limits and specials', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff],
      [65520, 0x7c00], // rounds up past the largest half
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -26, 0x0000], // below half of it: zero
    ];
    for (const [value, bits] of cases) assert.equal(float32ToFloat16Bits(value), bits, `${value}`);
    assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
  });

  it('rounds to nearest, ties to even', () => {
    // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): even wins, 1.
    assert.equal(float32ToFloat16Bits(1 + 2 ** -11), 0x3c00);
    // 1 + 3·2^-11 lies halfway between 1 + 2^-10 (odd) and 1 + 2^-9 (even).
    assert.equal(float32ToFloat16Bits(1 + 3 * 2 ** -11), 0x3c02);
    assert.equal(float32ToFloat16Bits(1 + 2 ** -11 + 2 ** -20), 0x3c01);
  });

  it('stays within half a unit in the last place', () => {
    for (let i = 0; i < 10_000; i++) {
      const v = Math.fround(Math.sin(i) * 2 ** ((i % 30) - 15));
      const back = float16BitsToFloat32(float32ToFloat16Bits(v));
      const exponent = Math.max(Math.floor(Math.log2(Math.abs(v))), -14);
      assert.ok(Math.abs(back - v) <= 2 ** (exponent - 11) + 1e-30, `${v} → ${back}`);
    }
  });
});
