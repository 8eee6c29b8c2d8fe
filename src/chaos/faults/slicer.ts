import { z } from 'zod';
import { toxicKind } from './toxic';

export const slicer = toxicKind({
  type: 'slicer',
  summary:
    'slices data into packets of averageSizeBytes ± sizeVariationBytes, delayUs microseconds apart',
  attributes: {
    averageSizeBytes: z.number().int().min(1),
    sizeVariationBytes: z.number().int().min(0).default(0),
    delayUs: z.number().int().min(0).default(0),
  },
  toToxiproxy: (f) => ({
    average_size: f.averageSizeBytes,
    size_variation: f.sizeVariationBytes,
    delay: f.delayUs,
  }),
});
