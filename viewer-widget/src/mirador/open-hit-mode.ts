/** Where a hit from a manifest that no window shows opens: a window of its own, or in place of the manifest shown. */
export type OtherManifestMode = 'new-window' | 'same-window';
