// How long something has left, for people: "59 min", "2 h 5 min", "expired".

export function describeLifetime(remainingMs: number): string {
  if (remainingMs <= 0) return 'expired';
  const minutes = Math.floor(remainingMs / 60_000);
  if (minutes < 1) return `${Math.max(1, Math.floor(remainingMs / 1000))} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}
