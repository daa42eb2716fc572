import { css } from 'lit';

/** Styles both result elements share: the grid, states, buttons. Nothing leaks out of the shadow roots. */
export const resultStyles = css`
  :host {
    display: block;
    font-family: var(--reprise-font-family, inherit);
    color: var(--reprise-color, inherit);
    container-type: inline-size;
  }
  :host([hidden]) {
    display: none;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip: rect(0 0 0 0);
    clip-path: inset(50%);
    white-space: nowrap;
  }
  ul.grid {
    list-style: none;
    margin: 0.5rem 0;
    padding: 0;
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(var(--reprise-card-min-width, 150px), 1fr));
    gap: var(--reprise-gap, 0.6rem);
    transition: opacity 0.15s;
  }
  ul.grid[aria-busy='true'] {
    opacity: 0.5;
  }
  .status {
    min-height: 1.4em;
    font-size: 0.9em;
    color: var(--reprise-muted, #555);
  }
  .status:focus {
    outline: none;
  }
  .error {
    padding: 0.5rem 0.75rem;
    border: 1px solid var(--reprise-negative, #b3261e);
    border-radius: 4px;
    color: var(--reprise-negative, #b3261e);
    background: var(--reprise-error-background, #fdecea);
  }
  .error strong {
    display: block;
  }
  .empty {
    padding: 0.5rem 0;
    color: var(--reprise-muted, #555);
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
    padding: 0.35rem 0.7rem;
    border: 1px solid var(--reprise-border-color, #c8c8c8);
    border-radius: 4px;
    background: var(--reprise-button-background, #f7f7f7);
  }
  button:disabled {
    cursor: default;
    opacity: 0.5;
  }
  button.primary {
    background: var(--reprise-accent, #0b57d0);
    border-color: var(--reprise-accent, #0b57d0);
    color: var(--reprise-accent-contrast, #fff);
  }
  button:focus-visible,
  input:focus-visible,
  summary:focus-visible,
  .status:focus-visible {
    outline: 3px solid var(--reprise-accent, #0b57d0);
    outline-offset: 2px;
  }
  .spinner {
    display: inline-block;
    width: 0.9em;
    height: 0.9em;
    margin-inline-end: 0.4em;
    vertical-align: -0.1em;
    border: 2px solid currentColor;
    border-right-color: transparent;
    border-radius: 50%;
    animation: spin 0.8s linear infinite;
  }
  @keyframes spin {
    to {
      transform: rotate(360deg);
    }
  }
  @media (prefers-reduced-motion: reduce) {
    .spinner {
      animation: none;
    }
    ul.grid {
      transition: none;
    }
  }
`;
