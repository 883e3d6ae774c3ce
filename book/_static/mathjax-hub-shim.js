/* ipywidgets 8 typesets widget labels through the MathJax 2 API (MathJax.Hub.Queue),
   but the book loads MathJax 3, which has no Hub: every widget label then throws
   "Cannot read properties of undefined (reading 'Queue')". Forward those calls to
   MathJax 3. Installed at DOMContentLoaded, when the deferred MathJax 3 script has run
   and before the widget manager renders the saved widgets. */
(function () {
  function install() {
    var mj = window.MathJax;
    if (!mj || mj.Hub || typeof mj.typesetPromise !== "function") return;
    mj.Hub = {
      Queue: function (command) {
        var element = Array.isArray(command) ? command[2] : undefined;
        mj.typesetPromise(element ? [element] : undefined).catch(function () {});
      },
    };
  }
  install();
  document.addEventListener("DOMContentLoaded", install);
})();
