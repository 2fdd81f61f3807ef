// The confirmation dialog (#confirm-dialog): one question at a time, with
// the safe choice focused.

import { $ } from './ui.js';

// confirmDialog asks before something that cannot be undone. It resolves
// to {ok, block}; block is the optional checkbox (blockLabel).
let confirmResolve = null;

export function confirmDialog({ title, message, confirmLabel, blockLabel = '' }) {
  const dialog = $('confirm-dialog');
  if (confirmResolve) confirmResolve({ ok: false, block: false });
  $('confirm-title').textContent = title;
  $('confirm-message').textContent = message;
  $('confirm-ok').textContent = confirmLabel;
  $('confirm-block-field').hidden = !blockLabel;
  $('confirm-block-label').textContent = blockLabel;
  $('confirm-block').checked = false;
  const back = document.activeElement;
  return new Promise((resolve) => {
    confirmResolve = (answer) => {
      confirmResolve = null;
      if (dialog.open) dialog.close();
      if (back && document.contains(back)) back.focus();
      resolve(answer);
    };
    dialog.showModal();
    // The safe choice has focus, so Enter does not do the harmful thing.
    $('confirm-cancel').focus();
  });
}

export function answerConfirm(ok) {
  if (confirmResolve) confirmResolve({ ok, block: ok && !$('confirm-block-field').hidden && $('confirm-block').checked });
}
