/* frame-counter: the test cluster stamps a running frame counter into the top-left corner of
 * each video frame; tests read it back to prove which frames arrived. Header-only, C++. */
#pragma once

#include <cstddef>
#include <cstdint>

/* 32 bits, most significant first, one 10x16 pixel block per bit on the luma plane:
 * 235 = 1, 16 = 0. Bits 31..8: a 24-bit counter; bits 7..0: a check byte, so that a frame
 * without a counter (or a badly damaged one) does not read as one. Needs a frame at least
 * 320 pixels wide and 16 lines high. */
namespace frame_counter {
constexpr int kBits = 32;
constexpr int kBlockWidth = 10;
constexpr int kBlockHeight = 16;

inline uint32_t
check_byte (uint32_t c)
{
  return ((c ^ (c >> 8) ^ (c >> 16)) & 0xff) ^ 0x5a;
}
}   // namespace frame_counter

inline void
frame_counter_stamp (uint8_t *y, size_t stride, uint32_t counter)
{
  using namespace frame_counter;
  counter &= 0xffffff;
  uint32_t word = (counter << 8) | check_byte (counter);
  for (int bit = 0; bit < kBits; bit++) {
    uint8_t v = (word >> (kBits - 1 - bit)) & 1 ? 235 : 16;
    for (int line = 0; line < kBlockHeight; line++) {
      uint8_t *row = y + size_t (line) * stride + size_t (bit) * kBlockWidth;
      for (int x = 0; x < kBlockWidth; x++)
        row[x] = v;
    }
  }
}

/* Reads the counter: each bit is the mean of the block's centre (lossy codecs smear the
 * edges). Returns false when the check byte does not match. */
inline bool
frame_counter_read (const uint8_t *y, size_t stride, uint32_t *counter)
{
  using namespace frame_counter;
  uint32_t word = 0;
  for (int bit = 0; bit < kBits; bit++) {
    unsigned sum = 0, n = 0;
    for (int line = 4; line < kBlockHeight - 4; line++) {
      const uint8_t *row = y + size_t (line) * stride + size_t (bit) * kBlockWidth;
      for (int x = 3; x < kBlockWidth - 3; x++, n++)
        sum += row[x];
    }
    word = (word << 1) | (sum / n > 125 ? 1u : 0u);
  }
  uint32_t c = word >> 8;
  if ((word & 0xff) != check_byte (c))
    return false;
  *counter = c;
  return true;
}
