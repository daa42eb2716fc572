/** The icon of the side-bar tab that opens the panel; Mirador reads `value` as the companion window key. */
import { createElement as h, useCallback, type ReactNode } from 'react';
import ImageSearchIcon from '@mui/icons-material/ImageSearchSharp';

export const COMPANION_WINDOW_KEY = 'reprise';

/**
 * Mirador 4's side bar (MUI Tabs) puts aria-orientation on the element around its tab list, which
 * has no role that allows it: a critical axe-core violation on every page that shows a side bar.
 * The tab list itself keeps its orientation; the stray attribute goes once the tab is drawn.
 */
function dropStrayOrientation(icon: SVGSVGElement | null): void {
  const tabs = icon?.closest('.MuiTabs-root');
  if (tabs && !tabs.getAttribute('role')) tabs.removeAttribute('aria-orientation');
}

export function RepriseSideBarIcon(): ReactNode {
  const ref = useCallback(dropStrayOrientation, []);
  return h(ImageSearchIcon, { ref });
}
RepriseSideBarIcon.value = COMPANION_WINDOW_KEY;
