export { ReprintIndex, ReprintIndexError, partId, type ReprintEntry, type ReprintItem, type RegionOnCanvas, type IndexedImage, type StoredPair } from './reprint-index.ts';
export { InvertedFile, type Candidate } from './inverted-file.ts';
