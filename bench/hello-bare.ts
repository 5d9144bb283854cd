// The size floor for `bun bench/sizes.ts`: a Bun program that does nothing but print, compiled
// for each release target. What remains is the Bun runtime itself.
console.log("hello world");
