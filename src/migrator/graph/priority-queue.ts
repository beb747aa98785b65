/** A binary min-heap: what Kahn's algorithm takes next among the ready, in O(log n) a take. */
export class PriorityQueue<T> {
  private readonly compare: (a: T, b: T) => number
  private readonly items: T[] = []

  constructor (compare: (a: T, b: T) => number) {
    this.compare = compare
  }

  get size (): number {
    return this.items.length
  }

  push (item: T): void {
    const items = this.items
    items.push(item)
    for (let index = items.length - 1; index > 0;) {
      const parent = (index - 1) >> 1
      if (this.compare(items[index] as T, items[parent] as T) >= 0) break
      this.swap(index, parent)
      index = parent
    }
  }

  /** The least item, or undefined when empty. */
  pop (): T | undefined {
    const items = this.items
    const top = items[0]
    const last = items.pop()
    if (items.length === 0 || last === undefined) return top
    items[0] = last
    for (let index = 0; ;) {
      const [left, right] = [2 * index + 1, 2 * index + 2]
      let least = index
      if (left < items.length && this.compare(items[left] as T, items[least] as T) < 0) least = left
      if (right < items.length && this.compare(items[right] as T, items[least] as T) < 0) least = right
      if (least === index) return top
      this.swap(index, least)
      index = least
    }
  }

  private swap (a: number, b: number): void {
    const items = this.items
    ;[items[a], items[b]] = [items[b] as T, items[a] as T]
  }
}
