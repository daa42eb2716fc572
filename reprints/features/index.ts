export * from './errors.ts';
export * from './types.ts';
export { localFeatures, localFeaturesAvailable } from './native.ts';
export { prepareImage, contentBounds, DEFAULT_PREPARE, type RawPixels, type PrepareOptions } from './prepare.ts';
export { extractFeatures, DEFAULT_EXTRACT, type ExtractOptions } from './extract.ts';
export { verifyPair, confidence, DEFAULT_VERIFY, DEFAULT_MIN_INLIERS, type PairMatch, type Similarity, type VerifyOptions, type VerifiableFeatures } from './verify.ts';
export { extractViews, DEFAULT_VIEWS, type ViewOptions } from './views.ts';
export { loadDefaultVocabulary, Vocabulary } from './vocabulary.ts';
export { trainVocabulary, DEFAULT_TRAIN, type TrainOptions } from './train-vocabulary.ts';
