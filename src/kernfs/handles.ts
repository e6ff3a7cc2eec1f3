/** Numbers for open-file and open-directory handles; one counter for both, so a handle never names two things. */
export class HandleNumbers {
  private next = 1;

  take(): number {
    return this.next++;
  }
}
