"""Pure, synchronous domain core: no asyncio, no I/O, no clock reads."""
