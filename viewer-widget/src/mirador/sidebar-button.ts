/** The icon of the side-bar tab that opens the panel; Mirador reads `value` as the companion window key. */
import { createElement as h, type ReactNode } from 'react';
import ImageSearchIcon from '@mui/icons-material/ImageSearchSharp';

export const COMPANION_WINDOW_KEY = 'reprise';

export function RepriseSideBarIcon(): ReactNode {
  return h(ImageSearchIcon);
}
RepriseSideBarIcon.value = COMPANION_WINDOW_KEY;
