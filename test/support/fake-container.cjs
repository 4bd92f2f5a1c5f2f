// Preloaded by `npm run test:container`: Node reports an 8 GiB cgroup limit, as inside an 8 GiB
// container, while the real /sys stays as it is. No test may depend on either.
process.constrainedMemory = () => 8 * 1024 ** 3;
