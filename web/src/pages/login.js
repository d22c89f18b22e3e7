// The login page: a host account checked by the daemon through PAM.
import { h } from '../ui.js';
import { login } from '../api.js';

export function loginPage(onDone) {
  const err = h('p', { class: 'login-error', role: 'alert', hidden: true });
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true, autofocus: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { class: 'btn btn-primary', type: 'submit' }, 'Log in');
  const form = h('form', {
    class: 'login-form',
    onsubmit: async (e) => {
      e.preventDefault();
      submit.disabled = true;
      err.hidden = true;
      try {
        await login(user.value, pass.value);
        onDone();
      } catch (ex) {
        err.textContent = ex.message || String(ex);
        err.hidden = false;
        pass.select();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h1', {}, 'virtd'),
  h('p', { class: 'login-host' }, `Log in to ${location.hostname}`),
  err,
  h('label', { for: 'login-user' }, 'User name'), user,
  h('label', { for: 'login-password' }, 'Password'), pass,
  submit);
  setTimeout(() => user.focus(), 0);
  return { el: h('div', { class: 'login-page' }, form), bare: true };
}
