// Milestones worth announcing: 1, 10, 100, 1000, …
export function milestone(count: number): boolean {
  return count === 1 || (count % 10 === 0 && /^10*$/.test(String(count)))
}
