import { requirePackage } from '../core/builtins.js';

/**
 * Loads systeminformation's own module for one job (`lib/memory.js`, `lib/graphics.js`): its
 * index loads every module it has, about three times the cost (see bench/). Where that file is
 * missing or gives nothing, the index is loaded, as documented. Rejects when neither loads.
 */
export async function loadSystemInformation<T extends object>(
  part: 'memory' | 'graphics',
): Promise<T> {
  try {
    const module = requirePackage(`systeminformation/lib/${part}.js`);
    if (typeof module === 'object' && module !== null) return module as T;
  } catch {
    // another layout of the package: its index has every part
  }
  return requirePackage('systeminformation') as T;
}
