/* zlib (Debian zlib1g-dev): raw inflate and CRC-32 for .npz members. */
#include <zlib.h>
