// Reading one source file into a component build (a component's own file, or an sdk file for the bundle): a regular
// file under a byte budget, never a FIFO or device, never more than its stat said.
import { constants } from 'node:fs'
import { open } from 'node:fs/promises'

/**
 * Reads a regular file of at most `limit` bytes, or says why not. Opened non-blocking and checked after opening, so a
 * FIFO or device swapped in after resolution cannot hang the compile; `reserve` is told the size before the read's
 * await, so parallel loads cannot overshoot the cap together, and the file's growth mid-read is caught.
 */
export async function readSource(path: string, limit: number, reserve: (bytes: number) => void): Promise<Uint8Array | string> {
  let handle
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'unreadable'
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) return 'not a regular file'
    if (info.size > limit) return 'too-large'
    reserve(info.size)
    const bytes = new Uint8Array(info.size + 1)
    let length = 0
    for (;;) {
      const { bytesRead } = await handle.read(bytes, length, bytes.length - length, length)
      if (bytesRead === 0) break
      length += bytesRead
      if (length > info.size) return 'it changed while being read'
    }
    reserve(length - info.size)
    return bytes.subarray(0, length)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'unreadable'
  } finally {
    await handle.close()
  }
}
